# A server gap inside chunk data is absorbed; the connection stays in sync.
>>>
GET /a HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Transfer-Encoding: chunked

a
01234
<><
---
<<<
89
0


>>>
GET /b HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 1

b
