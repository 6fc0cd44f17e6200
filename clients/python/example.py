"""`npm run example:python`: the whole product path through the Python client, against a
running `npm run dev` (API_URL, default http://127.0.0.1:8787; SEED_PASSWORD for the demo
platform admin, default grandscale-demo). Needs `pip install ./clients/python`.

register → project → upload a CSV → parse → label schema → jobs → assign → annotate →
submit → review → export → download.
"""
import json
import os
import random
import sys
import time

from grandscale import Client, download, upload_file, wait_for_export

BASE_URL = os.environ.get("API_URL", "http://127.0.0.1:8787").rstrip("/")
SEED_PASSWORD = os.environ.get("SEED_PASSWORD", "grandscale-demo")
STARTED = time.monotonic()
CSV = "review,stars\nGreat product,5\nBroke after a day,1\nDoes the job,3\n"
LABELS = {"Great product": "positive", "Broke after a day": "negative", "Does the job": "neutral"}


def step(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:5.1f} s] {message}", flush=True)


def main() -> None:
    anonymous = Client(BASE_URL)

    def login(email: str) -> tuple:
        tokens = anonymous.login(body={"email": email, "password": SEED_PASSWORD})
        client = anonymous.with_token(tokens["access_token"])
        return client, client.getCurrentUser()["user"]["user_id"]

    # 1. A client registers (a new organization) and creates a project.
    suffix = f"{int(time.time() * 1000)}-{random.randrange(10**6)}"
    tokens = anonymous.register(body={
        "email": f"py-client-{suffix}@example.test", "password": f"example-password-{suffix}",
        "full_name": "Example Client", "organization_name": f"Python Example Org {suffix}",
    })
    client = anonymous.with_token(tokens["access_token"])
    step("registered a client organization")
    project = client.createProject(body={"name": f"Product reviews {suffix}"})
    project_id = project["project_id"]
    step(f"project {project_id} created")

    # 2. The client uploads a CSV (presigned PUT, complete) and waits for the parse.
    version = upload_file(client, project_id, CSV.encode(), filename="reviews.csv")
    table = client.listVersionTables(version_id=version.version_id)["data"][0]
    step(f"uploaded and parsed: version {version.version_id}, table {table['table_id']} with {table['row_count']} rows")

    # A file above the server's multipart threshold goes up in presigned parts (CI starts
    # the dev server with MULTIPART_THRESHOLD_BYTES and tells this script the same number).
    threshold = int(os.environ.get("MULTIPART_THRESHOLD_BYTES", "0"))
    if threshold > 0:
        rows = [f"{i},review number {i} of the bulk file\n" for i in range(-(-int(threshold * 1.2) // 48))]
        bulk = ("id,text\n" + "".join(rows)).encode()
        if len(bulk) <= threshold:
            raise RuntimeError("the bulk file must be above the multipart threshold")
        bulk_version = upload_file(client, project_id, bulk, filename="bulk.csv")
        bulk_table = client.listVersionTables(version_id=bulk_version.version_id)["data"][0]
        if bulk_version.size_bytes != len(bulk) or bulk_table["row_count"] != len(rows):
            raise RuntimeError(f"the multipart upload came back as {bulk_version.size_bytes} bytes, {bulk_table['row_count']} rows")
        step(f"uploaded {len(bulk)} bytes in parts and parsed {len(rows)} rows")

    # 3. The platform admin sets the label schema, cuts a job over the table and staffs it.
    admin, _ = login("admin@platform.test")
    annotator, annotator_id = login("annotator@platform.test")
    reviewer, reviewer_id = login("reviewer@platform.test")
    current = admin.call_raw("getLabelSchema", project_id=project_id)
    admin.putLabelSchema(project_id=project_id, if_match=current.headers.get("etag"), body={"questions": [
        {"name": "sentiment", "title": "Sentiment", "type": "label", "required": True,
         "options": ["positive", "negative", "neutral"]},
    ]})
    step("label schema set")
    job = admin.createAnnotationJobs(project_id=project_id, body={
        "name": "Reviews", "table_id": table["table_id"], "priority": "high", "instructions": "Sentiment of each review.",
    })["data"][0]
    job_id = job["job_id"]
    admin.createAssignment(job_id=job_id, body={"user_id": annotator_id, "role": "annotator"})
    admin.createAssignment(job_id=job_id, body={"user_id": reviewer_id, "role": "reviewer"})
    step(f"job {job_id} created (rows {job['row_start']}–{job['row_end']}), annotator and reviewer assigned")

    # 4. The annotator labels every row and submits; the reviewer approves.
    for item in annotator.listJobItems(job_id=job_id)["data"]:
        label = LABELS.get(str(item["data"]["review"]), "neutral")
        annotator.saveAnnotation(job_id=job_id, row_index=item["row_index"], body={"data": {"sentiment": label}})
    submitted = annotator.updateAnnotationJob(job_id=job_id, body={"status": "submitted"})
    step(f"annotated {submitted['progress']['annotated']}/{submitted['progress']['total']} rows and submitted")
    reviewer.createReview(job_id=job_id, body={"status": "approved"})
    step("review: approved")

    # 5. The client exports the approved results and downloads them.
    requested = client.createExport(project_id=project_id, body={"format": "jsonl", "scope": "approved"})
    finished = wait_for_export(client, requested["export_id"])
    if not finished.download_url:
        raise RuntimeError("the finished export has no download_url")
    rows = [json.loads(line) for line in download(client, finished.download_url).decode().splitlines() if line]
    step(f"export {finished.export_id}: {finished.row_count} rows, downloaded {len(rows)} lines")
    for row in rows:
        print(f"  {json.dumps(row)}")
    got = sorted(row["annotation"]["sentiment"] for row in rows)
    if got != sorted(LABELS.values()):
        raise RuntimeError(f"the export has labels {got}, expected {sorted(LABELS.values())}")
    step("done: the whole product path ran")


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # one clear line on failure, then the traceback
        print(f"example failed: {error}", file=sys.stderr)
        raise
