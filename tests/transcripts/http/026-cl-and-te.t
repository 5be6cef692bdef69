# Content-Length and Transfer-Encoding: chunked wins (CL.TE smuggling signal).
>>>
POST /smuggle HTTP/1.1
Host: api.example.com
Content-Length: 6
Transfer-Encoding: chunked

0

GET /x HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0

HTTP/1.1 200 OK
Content-Length: 0


