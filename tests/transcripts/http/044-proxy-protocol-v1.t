# A PROXY protocol v1 line from a load balancer before the first request is skipped.
>>>
PROXY TCP4 192.0.2.1 198.51.100.1 56324 80
GET /behind-lb HTTP/1.1
Host: app


<<<
HTTP/1.1 200 OK
Content-Length: 0


