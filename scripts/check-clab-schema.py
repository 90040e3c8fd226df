#!/usr/bin/env python3
"""Validates `nstopo export --format containerlab` of every example, for containerlab and for
clabernetes (`--for clabernetes`; an example with a host end must be refused with 65), against
containerlab's published JSON schema, when a copy is at ../shared/containerlab/clab.schema.json (it is data
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
checked = 0
files = sorted(glob.glob(os.path.join(os.path.dirname(__file__), "../topologies/*.topo")))
for f in files:
    for target in ["containerlab", "clabernetes"]:
        out = subprocess.run([binary, "export", f, "--format", "containerlab", "--for", target], capture_output=True, text=True)
        if target == "clabernetes" and out.returncode == 65 and "host end host:" in out.stderr:
            continue
        if out.returncode != 0:
            print("check-clab-schema: export of %s for %s failed: %s" % (f, target, out.stderr))
            failed += 1
            continue
        checked += 1
        doc = yaml.safe_load(out.stdout)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        for e in errors[:5]:
            print("check-clab-schema: %s for %s: %s at %s" % (os.path.basename(f), target, e.message, "/".join(map(str, e.path))))
        failed += bool(errors)
if failed:
    sys.exit("check-clab-schema: %d of %d exports do not validate" % (failed, checked))
print("check-clab-schema: %d exports of %d examples (for containerlab and clabernetes) validate against containerlab's schema" % (checked, len(files)))
