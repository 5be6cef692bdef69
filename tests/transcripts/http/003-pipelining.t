# Three pipelined requests in one segment, then three responses in one segment.
>>>
GET /1 HTTP/1.1
Host: api.example.com

GET /2 HTTP/1.1
Host: api.example.com

GET /3 HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 1

1HTTP/1.1 200 OK
Transfer-Encoding: chunked

1
2
0

HTTP/1.1 500 Oops
Content-Length: 1

3
