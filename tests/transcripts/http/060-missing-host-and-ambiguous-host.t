# HTTP/1.1 without Host, then two different Host headers.
>>>
GET /nohost HTTP/1.1


<<<
HTTP/1.1 200 OK
Content-Length: 0


>>>
GET /twohosts HTTP/1.1
Host: a.example
Host: b.example


<<<
HTTP/1.1 200 OK
Content-Length: 0


