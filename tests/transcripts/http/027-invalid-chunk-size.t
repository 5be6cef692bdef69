# A request chunk-size line that is not hex: the request is cut, the next request is found again.
>>>
POST /bad HTTP/1.1
Host: api.example.com
Transfer-Encoding: chunked

zz
hello
0


<<<
HTTP/1.1 400 Bad Request
Content-Length: 0


>>>
GET /after HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0


