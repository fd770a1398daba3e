"""State shared by workers: `redis` (`RedisStore`), `fleet` (admin changes published and acknowledged) and
`outbox` (webhook deliveries by due instant, claimed under leases)."""
