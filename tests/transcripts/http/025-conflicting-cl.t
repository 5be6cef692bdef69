# Content-Length sent twice with different values: the first is used.
>>>
POST /conflict HTTP/1.1
Host: api.example.com
Content-Length: 4
Content-Length: 6

abcd
<<<
HTTP/1.1 400 Bad Request
Content-Length: 0


