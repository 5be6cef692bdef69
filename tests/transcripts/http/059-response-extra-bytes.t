# A 204 followed by stray body bytes: the next status line is found right after them.
>>>
DELETE /x HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 204 No Content

oops
>>>
GET /y HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 2

ok
