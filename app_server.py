"""Start the browser app: `python app_server.py run app.py [streamlit options] -- [app options]`.

`red app` runs this. It is `streamlit run` with one thing added before the server starts:
uploads are taken only from a session whose person may import (see pages.guard_uploads).
Started as plain `streamlit run app.py`, the same gate is installed by the app's first page
run, and a session opened before that could still upload.
"""

import sys

from streamlit.web import cli

from pages import guard_uploads

if __name__ == "__main__":
    guard_uploads()
    sys.exit(cli.main(prog_name="streamlit"))
