"""Login for the Panel pages and the API alike: our session cookie, the Bokeh auth provider that
reads it, the login / logout / invite pages, and closing open pages when a session ends."""
