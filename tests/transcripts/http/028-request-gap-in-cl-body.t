# A client gap inside a Content-Length body is absorbed.
>>>
POST /big HTTP/1.1
Host: api.example.com
Content-Length: 20

0123456789
><>
-----
>>>
ABCDE
<<<
HTTP/1.1 200 OK
Content-Length: 2

ok
>>>
GET /after HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0


