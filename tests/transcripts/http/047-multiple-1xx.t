# 100 Continue, the body, 102 Processing, then the final response.
>>>
POST /slow HTTP/1.1
Host: api.example.com
Expect: 100-continue
Content-Length: 3


<<<
HTTP/1.1 100 Continue


>>>
abc
<<<
HTTP/1.1 102 Processing

HTTP/1.1 200 OK
Content-Length: 0


