-- The same crosswalk with every link of every path (id, method, direction) and the Annex A
-- controls that reach no HIPAA element.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"query":"{ crosswalk(from: \\"iso27001-2022\\", to: \\"hipaa-sr\\", group: \\"A\\") { count entries { source { ref } target { ref citation } relationship state length hops { reversed mapping { id method } } through { ref } } unmapped { ref } } }"}'

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
