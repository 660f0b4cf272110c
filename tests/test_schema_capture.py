"""Schema capture (methodology section 6): the reference record, the shipped specs, the edges."""

from __future__ import annotations

import importlib.resources
import json
import time
from pathlib import Path

import pytest
import yaml

from eurodex.model import CapturedSchema, SchemaField
from eurodex.schema import openapi
from eurodex.schema.openapi import SchemaCaptureError, capture_openapi, capture_openapi_file

FIXTURES = Path(__file__).parent / "fixtures"


def _snapshots() -> Path:
    with importlib.resources.as_file(importlib.resources.files("eurodex.snapshots")) as root:
        return Path(root)


def _shipped_specs() -> list[Path]:
    root = _snapshots()
    swaggers = root / "api-gouv-fr" / "swaggers"
    found = [p for p in swaggers.rglob("*") if p.suffix in (".json", ".yaml", ".yml")]
    found += sorted((root / "api-entreprise-particulier" / "openapi").iterdir())
    found.append(root / "nl-api-register" / "openapi.json")
    return sorted(found)


def _capture(doc: dict | str, **kwargs: object) -> CapturedSchema:
    text = doc if isinstance(doc, str) else json.dumps(doc)
    return capture_openapi(text, source=kwargs.pop("source", "test.json"), **kwargs)


def _rows(schema: CapturedSchema) -> list[tuple[str, str, str]]:
    return [(f.name, f.type, f.owner) for f in schema.fields]


def _oas(paths: dict, schemas: dict | None = None, **extra: object) -> dict:
    doc: dict = {"openapi": "3.0.3", "info": {"title": "T", "version": "1"}, "paths": paths}
    if schemas is not None:
        doc["components"] = {"schemas": schemas}
    doc.update(extra)
    return doc


def _get_returning(ref: str) -> dict:
    content = {"application/json": {"schema": {"$ref": ref}}}
    return {"/x": {"get": {"responses": {"200": {"description": "ok", "content": content}}}}}


# ---- the reference record ----------------------------------------------------------------------


def test_cvec_reference_record_yields_exactly_the_expected_fields() -> None:
    expected = json.loads((FIXTURES / "cvec-expected-schema.json").read_text("utf-8"))
    schema = capture_openapi_file(FIXTURES / "cvec-openapi-2025.json")

    assert schema.fields == [
        SchemaField(f["name"], f["type"], f["description"], f["owner"]) for f in expected["fields"]
    ]
    assert len(schema.fields) == 17
    assert schema.filterable_count == 5
    assert [f.name for f in schema.fields if f.filterable] == expected["filterable"]
    assert (schema.spec_format, schema.spec_version) == ("openapi", "3.0.3")
    assert schema.servers == ["https://cvec-ctrl.etudiant.gouv.fr"]
    assert schema.title == "API contrôle CVEC"


def test_cvec_from_bytes_and_text_agree() -> None:
    raw = (FIXTURES / "cvec-openapi-2025.json").read_bytes()
    from_bytes = capture_openapi(raw, source="cvec.json")
    from_text = capture_openapi(raw.decode("utf-8"), source="cvec.json")
    assert from_bytes == from_text


# ---- the 28 shipped OpenAPI documents ----------------------------------------------------------

# file name -> (spec_format, spec_version, fields, filterable), measured on the shipped snapshots
KNOWN = {
    "api-impactco2.json": ("openapi", "3.1.0", 25, 12),
    "openapi.json": ("openapi", "3.1.0", 63, 11),
    "api-captchetat.json": ("swagger", "2.0", 19, 4),
    "api-r2p.json": ("swagger", "2.0", 44, 16),
    "api-legifrance-v2.json": ("swagger", "2.0", 5, 1),
    "api-cvec-new.json": ("openapi", "3.0.0", 15, 2),
    "api-ma-cantine.yaml": ("openapi", "3.0.3", 232, 7),
    "openapi-entreprise.yaml": ("openapi", "3.0.1", 454, 14),
    "api-annuaire-education-v2.json": ("openapi", "3.0.3", 21, 6),
}
SWAGGER_2 = {
    "api-captchetat.json",
    "api-chorus-pro.json",
    "api-legifrance-v2.json",
    "api-pajemploi.json",
    "api-r2p.json",
    "api-tiers-de-prestation.json",
}
WITHOUT_GET = {
    "StatutEtudiant-POST-inscription-v4-complet.json",
    "api-chorus-pro.json",
    "api-service-national.yaml",
    "api-statut-etudiant-ecriture.json",
    "api-tiers-de-prestation.json",
}


def _has_get(path: Path) -> bool:
    text = path.read_text("utf-8-sig")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    doc = json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=loader)
    return any(isinstance(item, dict) and "get" in item for item in doc["paths"].values())


def test_all_shipped_openapi_documents_are_captured() -> None:
    specs = _shipped_specs()
    assert len(specs) == 28
    assert sum(1 for p in specs if "api-gouv-fr" in p.parts) == 23
    assert any(p.parent.name == "ods" for p in specs)

    captured: dict[str, CapturedSchema] = {}
    for path in specs:
        try:
            schema = capture_openapi_file(path)
        except SchemaCaptureError as exc:  # allowed by the rule, as long as the file is named
            assert path.name in str(exc)
            continue
        captured[path.name] = schema
        assert schema.spec_format == ("swagger" if path.name in SWAGGER_2 else "openapi")
        assert (path.name in WITHOUT_GET) is not _has_get(path), path.name
        if path.name in WITHOUT_GET:
            assert schema.fields == [], path.name
        else:
            assert schema.fields, path.name
        names = [f.name for f in schema.fields]
        assert len(names) == len(set(names)), path.name
        filterable = [f.filterable for f in schema.fields]
        assert filterable == sorted(filterable, reverse=True), path.name  # parameters first

    assert len(captured) == 28  # none of the shipped documents is refused
    for name, (fmt, version, count, filterable_count) in KNOWN.items():
        schema = captured[name]
        assert (schema.spec_format, schema.spec_version) == (fmt, version), name
        assert (len(schema.fields), schema.filterable_count) == (count, filterable_count), name

    assert captured["api-captchetat.json"].servers[0] == (
        "https://sandbox-api.piste.gouv.fr/piste/captchetat/v2"
    )
    assert captured["api-chorus-pro.json"].servers == [
        "https://api.aife.economie.gouv.fr/cpro/factures"
    ]
    assert captured["openapi-entreprise.yaml"].title == "API Entreprise"
    impact = captured["api-impactco2.json"]
    assert impact.servers == ["https://impactco2.fr/api/v1"]
    assert impact.fields[0] == SchemaField(
        "m2",
        "integer",
        "Nombre de m<sup>2</sup> sur lequel calculer les emissions. Si non renseigné, utilise la "
        "taille moyenne d'un appartement en France : 63m<sup>2</sup>",
        "filterable",
    )
    # an inline object inside an array property is labelled "<owner>.<property>"
    assert ("name", "string", "GET /chauffage.data") in _rows(impact)


def test_largest_shipped_document_is_captured_quickly() -> None:
    path = _snapshots() / "api-entreprise-particulier" / "openapi" / "openapi-entreprise.yaml"
    assert path.stat().st_size > 1_900_000
    started = time.perf_counter()
    schema = capture_openapi_file(path)
    elapsed = time.perf_counter() - started
    assert len(schema.fields) == 454
    assert elapsed < 20  # about 0.7 s with libyaml; generous for slow machines


# ---- rule details ------------------------------------------------------------------------------


def test_path_level_parameters_are_overridden_by_the_operation() -> None:
    doc = _oas(
        {
            "/items/{id}": {
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "lang", "in": "query", "description": "path-level"},
                    {"name": "X-Trace", "in": "header", "schema": {"type": "string"}},
                ],
                "get": {
                    "parameters": [
                        {
                            "name": "lang",
                            "in": "query",
                            "description": "operation-level",
                            "schema": {"type": "string", "format": "bcp47"},
                        },
                        {
                            "name": "since",
                            "in": "query",
                            "content": {
                                "application/json": {
                                    "schema": {"type": "string", "format": "date-time"}
                                }
                            },
                        },
                        {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                    ],
                    "responses": {"204": {"description": "nothing"}},
                },
                "post": {"parameters": [{"name": "body", "in": "query"}], "responses": {}},
            }
        }
    )
    schema = _capture(doc)
    assert schema.fields == [
        SchemaField("id", "string", "", "filterable"),
        SchemaField("lang", "string (bcp47)", "operation-level", "filterable"),
        SchemaField("since", "string (date-time)", "", "filterable"),
    ]


def test_parameter_via_ref_is_resolved_with_pointer_escapes() -> None:
    doc = _oas(
        {
            "/x": {
                "get": {
                    "parameters": [
                        {"$ref": "#/components/parameters/Limit"},
                        {"$ref": "#/components/parameters/a~1b~0c"},
                    ],
                    "responses": {},
                }
            }
        },
        components={
            "parameters": {
                "Limit": {
                    "name": "limit",
                    "in": "query",
                    "description": "Page size",
                    "schema": {"$ref": "#/components/schemas/Size"},
                },
                "a/b~c": {"name": "q", "in": "query", "schema": {"type": "string"}},
            },
            "schemas": {"Size": {"type": "integer", "format": "int32"}},
        },
    )
    assert _capture(doc).fields == [
        SchemaField("limit", "integer (int32)", "Page size", "filterable"),
        SchemaField("q", "string", "", "filterable"),
    ]


def test_breadth_first_through_items_compositions_and_maps() -> None:
    schemas = {
        "Page": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}},
                "meta": {"allOf": [{"$ref": "#/components/schemas/Meta"}], "description": "Paging"},
            },
        },
        "Item": {
            "allOf": [
                {"$ref": "#/components/schemas/Base"},
                {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "tags": {
                            "type": "object",
                            "additionalProperties": {"$ref": "#/components/schemas/Tag"},
                        },
                    },
                },
            ]
        },
        "Base": {"properties": {"id": {"type": ["string", "null"], "format": "uuid"}}},
        "Meta": {"type": "object", "properties": {"total": {"type": "integer"}}},
        "Tag": {"type": "object", "properties": {"label": {"type": "string"}}},
    }
    schema = _capture(_oas(_get_returning("#/components/schemas/Page"), schemas))
    assert _rows(schema) == [
        ("items", "array", "Page"),
        ("meta", "object", "Page"),  # no type of its own: the allOf member's
        ("id", "string (uuid)", "Base"),  # Item = allOf [Base, inline]: both at level 1
        ("title", "string", "Item"),
        ("tags", "object", "Item"),
        ("total", "integer", "Meta"),
        ("label", "string", "Tag"),  # level 2, through additionalProperties
    ]
    assert schema.fields[1].description == "Paging"


def test_inline_response_schema_is_labelled_by_operation() -> None:
    inline = {"type": "object", "properties": {"count": {"type": "integer"}}}
    paths = {
        "/a": {
            "get": {
                "operationId": "listA",
                "responses": {"200": {"content": {"application/json": {"schema": inline}}}},
            }
        },
        "/b": {
            "get": {
                "responses": {
                    "default": {
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {
                                        "properties": {"when": {"type": "string", "format": "date"}}
                                    },
                                }
                            }
                        }
                    }
                }
            }
        },
    }
    assert _rows(_capture(_oas(paths))) == [
        ("count", "integer", "listA"),
        ("when", "string (date)", "GET /b"),
    ]


# ---- circular references -----------------------------------------------------------------------


def test_schema_referencing_itself_terminates_and_lists_each_field_once() -> None:
    schemas = {
        "Node": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "parent": {"$ref": "#/components/schemas/Node"},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
            },
        }
    }
    schema = _capture(_oas(_get_returning("#/components/schemas/Node"), schemas))
    assert _rows(schema) == [
        ("name", "string", "Node"),
        ("parent", "object", "Node"),
        ("children", "array", "Node"),
    ]


def test_mutual_references_terminate_and_list_each_field_once() -> None:
    schemas = {
        "A": {
            "type": "object",
            "properties": {"a1": {"type": "string"}, "b": {"$ref": "#/components/schemas/B"}},
        },
        "B": {
            "type": "object",
            "properties": {
                "b1": {"type": "boolean"},
                "a": {"$ref": "#/components/schemas/A"},
                "a1": {"type": "integer"},
            },
        },
    }
    schema = _capture(_oas(_get_returning("#/components/schemas/A"), schemas))
    assert _rows(schema) == [
        ("a1", "string", "A"),
        ("b", "object", "A"),
        ("b1", "boolean", "B"),
        ("a", "object", "B"),
    ]


def test_ref_chains_that_loop_or_run_long_are_cut() -> None:
    schemas = {
        "Loop1": {"$ref": "#/components/schemas/Loop2"},
        "Loop2": {"$ref": "#/components/schemas/Loop1"},
        "Top": {
            "properties": {
                "loop": {"$ref": "#/components/schemas/Loop1"},
                "long": {"$ref": "#/components/schemas/L0"},
            }
        },
    }
    for i in range(200):
        schemas[f"L{i}"] = {"$ref": f"#/components/schemas/L{i + 1}"}
    schemas["L200"] = {"type": "string"}
    schema = _capture(_oas(_get_returning("#/components/schemas/Top"), schemas))
    assert _rows(schema) == [("loop", "object", "Top"), ("long", "object", "Top")]


def test_yaml_aliases_recursive_and_fanned_out_terminate() -> None:
    text = """
openapi: "3.0.0"
info: {title: T, version: "1"}
paths:
  /x:
    get:
      responses:
        "200":
          content:
            application/json:
              schema: &node
                type: object
                properties:
                  self: *node
                  value: {type: string}
"""
    assert _rows(_capture(text, source="alias.yaml")) == [
        ("self", "object", "GET /x"),
        ("value", "string", "GET /x"),
    ]
    # "billion laughs": 2**30 paths through shared objects, but each object is visited once
    lines = ["a0: &a0 {type: object, properties: {leaf: {type: string}}}"]
    for i in range(1, 31):
        lines.append(f"a{i}: &a{i} {{type: object, properties: {{l: *a{i - 1}, r: *a{i - 1}}}}}")
    text = (
        "openapi: 3.0.0\ninfo: {title: T, version: '1'}\nx-bomb:\n  "
        + "\n  ".join(lines)
        + "\npaths:\n  /x:\n    get:\n      responses:\n        200:\n          content:\n"
        "            application/json:\n              schema: *a30\n"
    )
    started = time.perf_counter()
    schema = _capture(text, source="bomb.yaml")
    assert time.perf_counter() - started < 5
    assert [f.name for f in schema.fields] == ["l", "r", "leaf"]


def test_compositions_of_shared_or_self_containing_schemas_are_rendered_once() -> None:
    lines = ["t0: &t0 {oneOf: [{type: string}, {type: integer}]}"]
    for i in range(1, 41):
        lines.append(f"t{i}: &t{i} {{oneOf: [*t{i - 1}, *t{i - 1}, {{allOf: [*t{i - 1}]}}]}}")
    text = (
        "openapi: 3.0.0\ninfo: {title: T}\nx-bomb:\n  "
        + "\n  ".join(lines)
        + "\nx-loop: &loop {anyOf: [*loop, {type: boolean}]}"
        + "\npaths:\n  /x:\n    get:\n      parameters:\n"
        "        - {name: deep, in: query, schema: *t40}\n"
        "        - {name: loop, in: query, schema: *loop}\n"
    )
    started = time.perf_counter()
    schema = _capture(text, source="types.yaml")
    assert time.perf_counter() - started < 5
    assert [(f.name, f.type) for f in schema.fields] == [
        ("deep", "any"),  # more than MAX_NESTING compositions deep: not looked into
        ("loop", "boolean"),
    ]


# ---- formats and versions ----------------------------------------------------------------------


def test_swagger_2_document() -> None:
    doc = {
        "swagger": "2.0",
        "info": {"title": "Old", "version": "1"},
        "host": "api.example.gouv.fr",
        "basePath": "/v1",
        "schemes": ["https", "http"],
        "parameters": {
            "Page": {
                "name": "page",
                "in": "query",
                "type": "integer",
                "format": "int32",
                "description": "Page number",
            }
        },
        "responses": {"NotFound": {"description": "no", "schema": {"$ref": "#/definitions/Err"}}},
        "paths": {
            "/people/{id}": {
                "get": {
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "type": "string"},
                        {"$ref": "#/parameters/Page"},
                        {
                            "name": "tags",
                            "in": "query",
                            "type": "array",
                            "items": {"type": "string"},
                        },
                        {"name": "X-Key", "in": "header", "type": "string"},
                    ],
                    "responses": {
                        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Person"}},
                        "404": {"$ref": "#/responses/NotFound"},
                    },
                },
                "post": {"parameters": [{"name": "p", "in": "body", "schema": {}}]},
            }
        },
        "definitions": {
            "Person": {
                "type": "object",
                "properties": {
                    "born": {"type": "string", "format": "date", "description": "Birth date"},
                    "address": {"$ref": "#/definitions/Address"},
                },
            },
            "Address": {"type": "object", "properties": {"city": {"type": "string"}}},
            "Err": {"type": "object", "properties": {"message": {"type": "string"}}},
        },
    }
    schema = _capture(doc, source="old.json")
    assert (schema.spec_format, schema.spec_version) == ("swagger", "2.0")
    assert schema.servers == ["https://api.example.gouv.fr/v1", "http://api.example.gouv.fr/v1"]
    assert schema.title == "Old"
    assert schema.fields == [
        SchemaField("id", "string", "", "filterable"),
        SchemaField("page", "integer (int32)", "Page number", "filterable"),
        SchemaField("tags", "array", "", "filterable"),
        SchemaField("born", "string (date)", "Birth date", "Person"),
        SchemaField("address", "object", "", "Person"),
        SchemaField("message", "string", "", "Err"),
        SchemaField("city", "string", "", "Address"),
    ]


def test_yaml_document_with_unquoted_version_and_yaml_1_1_words() -> None:
    text = """\
openapi: 3.0
info:
  title: Unquoted
  version: 1.10
servers:
  - url: https://{region}.example.eu/api
    variables:
      region: {default: west}
paths:
  /flags:
    get:
      parameters:
        - {name: no, in: query, schema: {type: boolean}}
      responses:
        200:
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  on: {type: string, description: 1.10}
                  yes: {type: integer}
                  off:
                    type: string
                    format: date-time
                    description: |
                      Multi-line
                      text
"""
    schema = capture_openapi(text, source="flags.yaml")
    assert (schema.spec_format, schema.spec_version) == ("openapi", "3.0")
    assert schema.servers == ["https://west.example.eu/api"]
    assert schema.fields == [
        SchemaField("no", "boolean", "", "filterable"),
        SchemaField("on", "string", "1.10", "GET /flags"),
        SchemaField("yes", "integer", "", "GET /flags"),
        SchemaField("off", "string (date-time)", "Multi-line\ntext", "GET /flags"),
    ]
    swagger = capture_openapi("swagger: 2.0\ninfo: {title: S}\npaths: {}\n", source="s.yaml")
    assert (swagger.spec_format, swagger.spec_version, swagger.fields) == ("swagger", "2.0", [])


def test_openapi_3_1_type_lists_and_optional_paths() -> None:
    doc = _oas(
        {
            "/x": {
                "get": {
                    "parameters": [
                        {"name": "n", "in": "query", "schema": {"type": ["integer", "null"]}},
                        {
                            "name": "v",
                            "in": "query",
                            "schema": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                        },
                        {"name": "e", "in": "query", "schema": {"enum": ["a", "b"]}},
                        {"name": "any", "in": "query", "schema": {}},
                    ],
                    "responses": {},
                }
            }
        },
        openapi="3.1.0",
    )
    assert _rows(_capture(doc)) == [
        ("n", "integer", "filterable"),
        ("v", "string | integer", "filterable"),
        ("e", "string", "filterable"),
        ("any", "any", "filterable"),
    ]
    components_only = {"openapi": "3.1.0", "info": {"title": "C"}, "components": {}}
    assert _capture(components_only).fields == []


# ---- external references -----------------------------------------------------------------------


def _split_spec(tmp_path: Path, remote: str) -> Path:
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "models.yaml").write_text(
        "Address:\n"
        "  type: object\n"
        "  properties:\n"
        "    city: {type: string, description: City name}\n"
        "    country: {$ref: '#/Country'}\n"
        "Country:\n"
        "  type: object\n"
        "  properties:\n"
        "    iso: {type: string}\n",
        encoding="utf-8",
    )
    (tmp_path / "params.json").write_text(
        json.dumps({"Q": {"name": "q", "in": "query", "schema": {"type": "string"}}}),
        encoding="utf-8",
    )
    (tmp_path.parent / "outside.yaml").write_text(
        "Secret: {properties: {secret: {type: string}}}\n", encoding="utf-8"
    )
    doc = _oas(
        _get_returning("#/components/schemas/Place"),
        {
            "Place": {
                "type": "object",
                "properties": {
                    "address": {"$ref": "common/models.yaml#/Address"},
                    "remote": {"$ref": remote, "description": "Remote"},
                    "outside": {"$ref": "../outside.yaml#/Secret"},
                    "absolute": {"$ref": "/etc/passwd#/x"},
                },
            }
        },
    )
    doc["paths"]["/x"]["get"]["parameters"] = [{"$ref": "params.json#/Q"}]
    spec = tmp_path / "api.json"
    spec.write_text(json.dumps(doc), encoding="utf-8")
    return spec


def test_relative_external_ref_in_the_same_tree_is_followed(tmp_path: Path, httpserver) -> None:
    remote = httpserver.url_for("/schemas/remote.json") + "#/Remote"
    root = tmp_path / "spec"
    root.mkdir()
    spec = _split_spec(root, remote)

    schema = capture_openapi_file(spec)
    assert schema.fields == [
        SchemaField("q", "string", "", "filterable"),
        SchemaField("address", "object", "", "Place"),
        SchemaField("remote", "object", "Remote", "Place"),
        SchemaField("outside", "object", "", "Place"),
        SchemaField("absolute", "object", "", "Place"),
        SchemaField("city", "string", "City name", "Address"),
        SchemaField("country", "object", "", "Address"),
        SchemaField("iso", "string", "", "Country"),
    ]
    assert httpserver.log == []  # the http:// reference was never fetched


def test_external_refs_are_not_read_without_a_base_path(tmp_path: Path) -> None:
    root = tmp_path / "spec"
    root.mkdir()
    spec = _split_spec(root, "https://example.invalid/x.json#/X")
    schema = capture_openapi(spec.read_bytes(), source="api.json")
    assert [f.name for f in schema.fields] == ["address", "remote", "outside", "absolute"]
    assert all(f.type == "object" for f in schema.fields)


def test_missing_or_broken_external_file_is_an_error_naming_the_source(tmp_path: Path) -> None:
    doc = _oas(_get_returning("missing.yaml#/X"))
    spec = tmp_path / "api.json"
    spec.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SchemaCaptureError, match=r"^api\.json: .*missing\.yaml not found"):
        capture_openapi_file(spec)
    (tmp_path / "missing.yaml").write_text("a: [unclosed", encoding="utf-8")
    with pytest.raises(SchemaCaptureError, match=r"^api\.json: .*missing\.yaml: invalid YAML"):
        capture_openapi_file(spec)


# ---- malformed and hostile input ---------------------------------------------------------------

MALFORMED = {
    "invalid JSON": (b'{"openapi": "3.0.0",', "invalid JSON"),
    "invalid YAML": ("openapi: 3.0.0\npaths: [\n", "invalid YAML"),
    "a list": ("[1, 2, 3]", "the document is a list"),
    "a scalar": ("just words", "the document is a str"),
    "empty": ("   \n", "empty document"),
    "not UTF-8": (b"openapi: 3.0.0\ntitle: \xff\xfe\n", "not UTF-8"),
    "no version key": ('{"info": {}, "paths": {}}', "no 'openapi' or 'swagger' key"),
    "unsupported version": ('{"openapi": "4.0.0", "paths": {}}', "unsupported openapi version"),
    "swagger 1.2": ('{"swagger": "1.2", "paths": {}}', "unsupported swagger version"),
    "yaml no as version": ("swagger: no\npaths: {}\n", "unsupported swagger version 'no'"),
    "missing paths": ('{"openapi": "3.0.0", "info": {}}', "'paths' is missing"),
    "paths a list": ('{"openapi": "3.0.0", "paths": []}', "'paths' is not a mapping"),
    "paths null": ("openapi: 3.0.0\npaths:\n", "'paths' is not a mapping"),
    "path item a string": ('{"openapi": "3.0.0", "paths": {"/a": "x"}}', "not a mapping"),
    "get a list": ('{"openapi": "3.0.0", "paths": {"/a": {"get": []}}}', "get is not a mapping"),
    "parameters a mapping": (
        '{"openapi": "3.0.0", "paths": {"/a": {"get": {"parameters": {}}}}}',
        "parameters is not a list",
    ),
    "parameter without name": (
        '{"openapi": "3.0.0", "paths": {"/a": {"get": {"parameters": [{"in": "query"}]}}}}',
        "has no name",
    ),
    "parameter without in": (
        '{"openapi": "3.0.0", "paths": {"/a": {"get": {"parameters": [{"name": "q"}]}}}}',
        "has no 'in'",
    ),
    "broken local ref": (
        '{"openapi": "3.0.0", "paths": {"/a": {"get": {"parameters": '
        '[{"$ref": "#/components/parameters/Nope"}]}}}}',
        "unresolvable $ref '#/components/parameters/Nope'",
    ),
    "ref not a string": (
        '{"openapi": "3.0.0", "paths": {"/a": {"get": {"parameters": [{"$ref": 3}]}}}}',
        "$ref is not a string",
    ),
    "responses a list": (
        '{"openapi": "3.0.0", "paths": {"/a": {"get": {"responses": []}}}}',
        "responses is not a mapping",
    ),
    "properties a list": (
        '{"openapi": "3.0.0", "paths": {"/a": {"get": {"responses": {"200": {"content": '
        '{"application/json": {"schema": {"properties": [1]}}}}}}}}}',
        "'properties' of GET /a is not a mapping",
    ),
    "deeply nested JSON": ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
    "deeply nested YAML": ("a: " + "[" * 50_000 + "]" * 50_000, "invalid YAML"),
    "python tag": ("openapi: !!python/object:os.system ls\npaths: {}\n", "invalid YAML"),
    "bad float tag": ("openapi: !!float nope\npaths: {}\n", "invalid YAML"),
    "two YAML documents": ("openapi: 3.0.0\n---\nopenapi: 3.0.0\n", "invalid YAML"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_input_raises_schema_capture_error_naming_the_source(case: str) -> None:
    document, problem = MALFORMED[case]
    with pytest.raises(SchemaCaptureError) as caught:
        capture_openapi(document, source="api-foo.json")
    message = str(caught.value)
    assert message.startswith("api-foo.json: "), message
    assert problem in message, message


def test_not_an_openapi_document_message() -> None:
    with pytest.raises(SchemaCaptureError) as caught:
        capture_openapi('{"title": "x"}', source="api-foo.json")
    assert str(caught.value) == (
        "api-foo.json: not an OpenAPI document (no 'openapi' or 'swagger' key)"
    )
    assert isinstance(caught.value, ValueError)


def test_unreadable_file_is_a_schema_capture_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaCaptureError, match=r"^nowhere\.json: cannot be read"):
        capture_openapi_file(tmp_path / "nowhere.json")


def test_field_cap_and_work_budget_refuse_hostile_documents(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    properties = {f"f{i}": {"type": "string"} for i in range(50)}
    doc = _oas(
        _get_returning("#/components/schemas/Big"),
        {"Big": {"type": "object", "properties": properties}},
    )
    assert len(_capture(doc).fields) == 50
    monkeypatch.setattr(openapi, "MAX_FIELDS", 10)
    with pytest.raises(SchemaCaptureError, match=r"^test\.json: more than 10 fields"):
        _capture(doc)
    monkeypatch.setattr(openapi, "MAX_FIELDS", 10_000)
    monkeypatch.setattr(openapi, "MAX_STEPS", 20)
    with pytest.raises(SchemaCaptureError, match=r"^test\.json: too much work"):
        _capture(doc)


def test_documents_larger_than_the_cap_are_refused_before_parsing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from eurodex.schema import loading

    monkeypatch.setattr(loading, "MAX_DOCUMENT_BYTES", 100)
    with pytest.raises(SchemaCaptureError, match=r"^big\.json: larger than 100 bytes"):
        capture_openapi(b"{" + b" " * 200 + b"}", source="big.json")
