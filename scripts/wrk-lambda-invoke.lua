-- wrk script: the Lambda Invoke API called directly with the event in
-- $LAMBDA_EVENT_FILE (scripts/bench-lambda).
local file = assert(io.open(os.getenv("LAMBDA_EVENT_FILE"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Amz-Invocation-Type"] = "RequestResponse"
