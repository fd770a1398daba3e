"""Layer 5, HTTP: `app` (factory, lifespan, error rendering), `routes` (one route per operation of the spec),
`endpoints`, `queries`, `answers`, `bodies`, `middleware/`, `admin/` (``/__mock``), `dashboard/` and `proxy/`."""
