# A request that never gets a response (flow ends without close).
#! no-close
>>>
GET /lonely HTTP/1.1
Host: api.example.com


