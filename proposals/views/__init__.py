"""The browser pages, one module per area of the service (thin: they call
services and selectors)."""
