# 304 Not Modified has no body even with a Content-Length.
>>>
GET /etag HTTP/1.1
Host: api.example.com
If-None-Match: "abc"


<<<
HTTP/1.1 304 Not Modified
ETag: "abc"
Content-Length: 100


>>>
GET /next HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 200 OK
Content-Length: 1

x
