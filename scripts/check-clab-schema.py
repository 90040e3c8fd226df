#!/usr/bin/env python3
"""Validates `nstopo export --format containerlab` of every example against containerlab's
published JSON schema, when a copy is at ../shared/containerlab/clab.schema.json (it is data
for checks, never copied into this repository). Usage: check-clab-schema.py NSTOPO [SCHEMA]
Exits 0 with a note when the schema or Python's jsonschema and yaml are missing."""
import glob
import json
import os
import subprocess
import sys

binary = sys.argv[1]
schema_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "../../shared/containerlab/clab.schema.json")
try:
    import jsonschema
    import yaml
except ImportError as e:
    print("check-clab-schema: skipped, Python lacks %s" % e.name)
    sys.exit(0)
if not os.path.exists(schema_path):
    print("check-clab-schema: skipped, no schema at %s" % schema_path)
    sys.exit(0)
# The schema's patterns use \p{N} and \p{L}, which Python's re does not know.
text = open(schema_path, encoding="utf-8").read().replace("\\\\p{N}", "\\\\d").replace("\\\\p{L}", "\\\\w")
validator = jsonschema.Draft7Validator(json.loads(text))
failed = 0
files = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "../topologies/*.topo")))
for f in files:
    out = subprocess.run([binary, "export", f, "--format", "containerlab"], capture_output=True, text=True)
    if out.returncode != 0:
        print("check-clab-schema: export of %s failed: %s" % (f, out.stderr))
        failed += 1
        continue
    doc = yaml.safe_load(out.stdout)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors[:5]:
        print("check-clab-schema: %s: %s at %s" % (os.path.basename(f), e.message, "/".join(map(str, e.path))))
    failed += bool(errors)
if failed:
    sys.exit("check-clab-schema: %d of %d exports do not validate" % (failed, len(files)))
print("check-clab-schema: the containerlab export of all %d examples validates against containerlab's schema" % len(files))
