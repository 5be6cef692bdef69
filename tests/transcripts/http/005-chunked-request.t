# Chunked request body with a chunk extension and a trailer.
>>>
POST /upload HTTP/1.1
Host: api.example.com
Transfer-Encoding: chunked

5;ext=1
hello
7
, world
0
X-Checksum: abc


<<<
HTTP/1.1 200 OK
Content-Length: 2

ok
