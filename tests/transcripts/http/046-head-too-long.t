# A request head over max_header_bytes (64 here): what fits is kept, the next request found.
#! config {"max_header_bytes": 64}
>>>
GET /long HTTP/1.1
Host: a
X-Big: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx

GET /next HTTP/1.1
Host: a


<<<
HTTP/1.1 431 Too Large
Content-Length: 0

HTTP/1.1 200 OK
Content-Length: 0


