"""What ``flux-mock proxy`` applies to live traffic: `watch` (`LifecycleWatch`, over `contracts.checks.traffic`)."""
