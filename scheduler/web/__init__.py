"""The manager's desk: a Starlette web app on the store and `scheduler.service`."""
