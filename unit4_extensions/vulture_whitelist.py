"""Names only a framework uses, looked up by reflection where vulture cannot see it (lesson
3.7). Vulture reads this file as code that uses them; nothing imports it."""

from http.server import BaseHTTPRequestHandler

from fake_model_server import FakeModelServer
from flask import Flask
from psycopg_pool import ConnectionPool
from werkzeug.routing import Map

from scheduler.http import IdConverter
from scheduler.tasks.advisor import UntilASlotIsFree
from tests.smtp_sink import Sink

IdConverter.regex  # Werkzeug matches a URL's id segment against it
IdConverter.to_python  # Werkzeug turns the matched segment into the view's argument
IdConverter.to_url  # url_for writes an id back into a URL
Map.strict_slashes  # Werkzeug reads it when matching /courses/ against /courses
Flask.test_client_class  # app.test_client() builds one of these (the tests' contract check)
ConnectionPool.timeout  # psycopg_pool reads it per wait (the outage tests shorten it)
Sink.handle_RCPT  # aiosmtpd calls its handler's hooks by name
Sink.handle_DATA

# The advisor (lessons 4.7 and 4.8).

UntilASlotIsFree.get_retry_decision  # procrastinate asks it whether a failed job runs again
FakeModelServer.server.daemon_threads  # socketserver reads it: handler threads never block exit
# http.server calls a handler's do_POST for each POST, and log_message to log each request.
FakeModelServer.handler_class().do_POST
FakeModelServer.handler_class().log_message

BaseHTTPRequestHandler.do_GET  # http.server calls it for a GET (the tests' key server)
BaseHTTPRequestHandler.log_message  # http.server logs each request through it
