# Chunked response: extensions, a chunk holding CRLFs, trailers; then a second request.
>>>
GET /wiki HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Transfer-Encoding: chunked
Trailer: Expires

4;a=b;c="d"
Wiki
5
pedia
E
 in

chunks.
0
Expires: Wed, 21 Oct 2015 07:28:00 GMT


>>>
GET /next HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 0


