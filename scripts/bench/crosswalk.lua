-- The ISO/IEC 27001:2022 Annex A (93 controls) -> HIPAA Security Rule crosswalk: each path's
-- source and target, relationship, the tenant's state, and the controls it passes through.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"query":"{ crosswalk(from: \\"iso27001-2022\\", to: \\"hipaa-sr\\", group: \\"A\\") { count entries { source { ref title } target { ref citation } relationship state length through { ref } } } }"}'

function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
