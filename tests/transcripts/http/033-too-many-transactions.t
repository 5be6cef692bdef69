# max_tx = 2: the third pipelined request gets no transaction, its response is skipped.
#! config {"max_tx": 2}
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
Content-Length: 1

2HTTP/1.1 200 OK
Content-Length: 1

3
