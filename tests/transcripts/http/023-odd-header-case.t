# Header names in odd case still frame and route.
>>>
GET /case HTTP/1.1
hOST: Case.Example.COM:8080
content-length: 0


<<<
HTTP/1.1 200 OK
cONTENT-lENGTH: 4

body
