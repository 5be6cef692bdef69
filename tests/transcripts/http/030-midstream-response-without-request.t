# Picked up mid-stream: the tail of a body, then a response whose request was not seen.
#! midstream
<<<
ail of an earlier body"}]
HTTP/1.1 404 Not Found
Content-Length: 0


>>>
GET /next HTTP/1.1
Host: h


<<<
HTTP/1.1 200 OK
Content-Length: 2

ok
