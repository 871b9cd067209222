#!/bin/sh
# Migrate before serving (the app refuses to start on a schema it does not know), then run the command.
set -eu
meldkluis db upgrade
meldkluis setup-link --if-no-admin
exec "$@"
