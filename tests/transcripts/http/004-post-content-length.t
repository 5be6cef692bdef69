# POST with a JSON body framed by Content-Length.
>>>
POST /api/users HTTP/1.1
Host: api.example.com
Content-Type: application/json
Content-Length: 26

{"name":"a","email":"b@c"}
<<<
HTTP/1.1 201 Created
Content-Type: application/json
Content-Length: 8

{"id":1}
