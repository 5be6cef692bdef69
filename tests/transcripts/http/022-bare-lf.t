# Heads and body framing with bare LF line endings.
>>>
GET /lf HTTP/1.1
Host: a


<<<
HTTP/1.1 200 OK
Transfer-Encoding: chunked

2
ok
0


