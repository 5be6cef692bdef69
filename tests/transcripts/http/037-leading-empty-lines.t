# An extra CRLF after a body (old clients) before the next request is ignored.
>>>
POST /a HTTP/1.1
Host: api.example.com
Content-Length: 2

ok


<<<
HTTP/1.1 200 OK
Content-Length: 0


>>>
GET /b HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0


