-- The ISO/IEC 27001:2022 Annex A (93 controls) -> HIPAA Security Rule crosswalk, with each
-- link's method, state and path.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")
wrk.body = '{"query":"{ crosswalk(from: \\"iso27001-2022\\", to: \\"hipaa-sr\\", group: \\"A\\") { count entries { source { ref } target { ref citation } relationship state length hops { reversed mapping { id method } } through { ref } } unmapped { ref } } }"}'
