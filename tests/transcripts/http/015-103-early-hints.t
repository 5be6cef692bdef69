# 103 Early Hints before the final response, in one segment.
>>>
GET / HTTP/1.1
Host: api.example.com


<<<
HTTP/1.1 103 Early Hints
Link: </style.css>; rel=preload; as=style

HTTP/1.1 200 OK
Content-Length: 5

hello
