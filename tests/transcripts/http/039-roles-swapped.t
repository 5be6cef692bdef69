# The side the reassembler calls the server sends the request: roles are swapped.
<<<
GET /swapped HTTP/1.1
Host: s


>>>
HTTP/1.1 200 OK
Content-Length: 2

ok
