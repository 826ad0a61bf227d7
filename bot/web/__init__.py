"""What the web pages share: the Jinja2 templates (`render`), HSTS, and the web chat's static files."""
