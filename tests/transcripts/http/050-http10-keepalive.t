# HTTP/1.0 with keep-alive and Content-Length responses.
>>>
GET /1 HTTP/1.0
Connection: keep-alive
Host: k


<<<
HTTP/1.0 200 OK
Connection: keep-alive
Content-Length: 3

one
>>>
GET /2 HTTP/1.0
Connection: keep-alive
Host: k


<<<
HTTP/1.0 200 OK
Content-Length: 3

two
