# A client gap where a chunk-size line was: sync is lost, the next request found.
>>>
POST /c HTTP/1.1
Host: api.example.com
Transfer-Encoding: chunked

5
hello

><>
----
>>>

world
0

GET /after HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0

HTTP/1.1 200 OK
Content-Length: 0


