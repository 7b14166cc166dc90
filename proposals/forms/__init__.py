"""Forms for the browser pages, one module per area; they validate and shape
input, and the services hold the rules."""
