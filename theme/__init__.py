"""The Tailwind theme: sources of the site's CSS (built into static/css/app.css by `make css`)."""
