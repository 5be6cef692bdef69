# Content-Length sent twice with the same value.
>>>
POST /dup HTTP/1.1
Host: api.example.com
Content-Length: 4
Content-Length: 4

abcd
<<<
HTTP/1.1 200 OK
Content-Length: 0


