-- wrk script: POST the viewer query with a bearer token from $TOKEN.
wrk.method = "POST"
wrk.body = '{"query":"query Viewer { viewer { user { email } memberships { role tenant { slug name } } } }"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
