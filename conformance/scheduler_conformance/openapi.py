"""Reading a server's OpenAPI document (lesson 3.6): is it valid OpenAPI 3.1, which operation
does a request address, and does a reply match what the document says that operation answers."""

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import OpenAPIV31SpecValidator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# The document is registered under this URI, so that its own "#/components/..." references
# resolve wherever a schema inside it is validated from.
DOCUMENT_URI = "urn:scheduler-conformance:openapi"
MAX_SPEC_ERRORS = 5  # a broken document has hundreds; the first few say what is wrong


@dataclass(frozen=True)
class Operation:
    """One documented operation: its method, its full path template, where it is."""

    method: str
    template: str
    pointer: str
    node: dict
    pattern: re.Pattern


def spec_errors(document: dict) -> list[str]:
    """What makes the document invalid OpenAPI 3.1 (empty when it is valid)."""
    errors = []
    for error in OpenAPIV31SpecValidator(document).iter_errors():
        where = "/".join(str(part) for part in error.absolute_path) or "(the root)"
        errors.append(f"at {where}: {error.message}")
        if len(errors) == MAX_SPEC_ERRORS:
            break
    return errors


def escape(name: str) -> str:
    """A JSON-pointer segment (RFC 6901: ~ and / escaped)."""
    return name.replace("~", "~0").replace("/", "~1")


def resolve(document: dict, node, pointer: str) -> tuple[dict, str]:
    """Follow local `$ref`s from `node` (found at `pointer`) to what they name."""
    seen = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        reference = node["$ref"]
        if not reference.startswith("#") or reference in seen:
            break  # an external or circular reference: validate what is there
        seen.add(reference)
        pointer = reference[1:]
        node = document
        for part in pointer.split("/")[1:]:
            node = node[unquote(part).replace("~1", "/").replace("~0", "~")]
    return node, pointer


def base_path(document: dict) -> str:
    """The path the document's first server puts in front of its paths ("/api/v1")."""
    servers = document.get("servers") or [{}]
    return urlsplit(str(servers[0].get("url", ""))).path.rstrip("/")


def operations(document: dict) -> list[Operation]:
    """Every operation of the document, literal paths before templated ones (so that
    /auth/me is not taken for /auth/{anything})."""
    prefix, found = base_path(document), []
    for path, item in (document.get("paths") or {}).items():
        item, item_pointer = resolve(document, item, f"/paths/{escape(path)}")
        template = prefix + path
        parts = re.split(r"(\{[^}/]+\})", template)
        regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        for method in METHODS:
            if isinstance(item.get(method), dict):
                found.append(
                    Operation(
                        method.upper(),
                        template,
                        f"{item_pointer}/{method}",
                        item[method],
                        re.compile(regex),
                    )
                )
    return sorted(found, key=lambda operation: operation.template.count("{"))


def find_operation(document: dict, method: str, url: str) -> Operation | None:
    """The operation a request to `url` with `method` addresses, if the document has it."""
    path = urlsplit(url).path
    return next(
        (
            operation
            for operation in operations(document)
            if operation.method == method and operation.pattern.fullmatch(path)
        ),
        None,
    )


def find_path(document: dict, template: str) -> list[Operation]:
    """The operations documented for a path template (parameter names ignored)."""
    wanted = re.sub(r"\{[^}]*\}", "{}", template)
    return [
        operation
        for operation in operations(document)
        if re.sub(r"\{[^}]*\}", "{}", operation.template) == wanted
    ]


def response_problems(document: dict, operation: Operation, status: int, media_type: str, body):
    """What is wrong with a reply (status, media type, body) for `operation`: a list of
    sentences, empty when the document allows the reply."""
    responses = operation.node.get("responses") or {}
    for key in (str(status), f"{status // 100}XX", "default"):
        if key in responses:
            break
    else:
        return [f"{status} is not among the documented responses ({', '.join(responses)})"]
    pointer = f"{operation.pointer}/responses/{escape(key)}"
    response, pointer = resolve(document, responses[key], pointer)
    content = response.get("content") or {}
    if not content:
        return [] if not body else [f"the document gives the {key} response no body"]
    if media_type not in content:
        return [
            f"{media_type or 'no Content-Type'} is not documented for {key} ({', '.join(content)})"
        ]
    schema = content[media_type].get("schema")
    if schema is None:
        return []
    return schema_problems(document, f"{pointer}/content/{escape(media_type)}/schema", body)


def schema_problems(document: dict, pointer: str, value) -> list[str]:
    """What keeps `value` from matching the schema at `pointer` in the document."""
    resource = Resource.from_contents(document, default_specification=DRAFT202012)
    registry = Registry().with_resource(DOCUMENT_URI, resource)
    validator = OAS31Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"},
        registry=registry,
        format_checker=oas31_format_checker,
    )
    problems = []
    for error in validator.iter_errors(value):
        where = "/".join(str(part) for part in error.absolute_path) or "the body"
        problems.append(f"{where}: {error.message}")
        if len(problems) == MAX_SPEC_ERRORS:
            break
    return problems
