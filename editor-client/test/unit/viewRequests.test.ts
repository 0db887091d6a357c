import assert from "node:assert/strict";
import { test } from "node:test";
import { type ViewKey, ViewRequests } from "../../src/core/viewRequests";

const layered: ViewKey = { uri: "file:///w/seed_cnns.py", sequence: 1, factory: "construct_model", view: "layered", expandNested: false };

test("a drawing is asked for once, until it is answered or something changes", () => {
  const requests = new ViewRequests();
  const first = requests.ask(layered);
  assert.equal(typeof first, "number");
  assert.equal(requests.ask({ ...layered }), null, "already asked");
  assert.deepEqual(requests.accept(first!), layered);
  assert.equal(requests.ask(layered), null, "already answered");
  const rebuilt = requests.ask({ ...layered, sequence: 2 });
  assert.ok(rebuilt !== null && rebuilt !== first, "a new build is drawn again");
  assert.notEqual(requests.ask({ ...layered, sequence: 2, expandNested: true }), null);
});

test("the latest request wins: answers to older ones are dropped", () => {
  const requests = new ViewRequests();
  const older = requests.ask(layered)!;
  const newer = requests.ask({ ...layered, view: "summary" })!;
  assert.equal(requests.accept(older), null);
  assert.equal(requests.accept(12345), null);
  assert.equal(requests.accept(newer)?.view, "summary");
  assert.equal(requests.accept(newer), null, "an answer counts once");
});
