// Paged lists ({items, next, ...}; the next page is ?cursor=<next> with the same filters).

/**
 * The first page's answer with every page's items (the picture's: its incidents, ``key``),
 * read 500 at a time; ``getJson(path)`` reads one answer as JSON.
 */
export async function allPages(getJson, path, key = "items") {
  const join = path.includes("?") ? "&" : "?";
  const first = await getJson(`${path}${join}limit=500`);
  for (let cursor = first.next; cursor; ) {
    const page = await getJson(`${path}${join}limit=500&cursor=${encodeURIComponent(cursor)}`);
    first[key].push(...page[key]);
    cursor = page.next;
  }
  first.next = null;
  return first;
}
