"""Base commands: API access, size display and paging flags shared by every command group."""

from cliff import command, lister, show

from delfin_like.cli import errors, formatting

# --all follows at most this many next links: a bound, should an API answer with a loop
MAX_PAGES = 100_000


class ClientMixin:
    """Gives a command the app's API client and the size display choice."""

    @property
    def client(self):
        return self.app.client

    def human(self, parsed_args) -> bool:
        return formatting.want_human(getattr(parsed_args, "formatter", "table"), self.app_args.human)


class Command(ClientMixin, command.Command):
    """A command that prints nothing on success."""


class ShowOne(ClientMixin, show.ShowOne):
    """A key/value view of one API object."""

    def show(self, parsed_args, obj: dict, fields=None):
        """(columns, values) of ``obj``; byte fields humanized for tables."""
        row = formatting.humanize(obj, self.human(parsed_args))
        columns = tuple(fields or row.keys())
        return columns, tuple(row.get(c) for c in columns)


class Lister(ClientMixin, lister.Lister):
    """A list of API objects with paging, sorting and a short default column set for tables.

    Subclasses set ``path`` (``/v1/volumes``), ``key`` (``volumes``), ``columns`` and ``default_columns``.
    """

    path = key = ""
    columns: tuple = ()
    default_columns: tuple = ()
    rate_fields: frozenset = frozenset()  # fields in bits per second, shown as rates for people

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument("--limit", type=int, help="at most this many rows (the API caps it); with --all, "
                                                      "rows per page")
        parser.add_argument("--marker", help="id of the last row of the previous page")
        parser.add_argument("--all", action="store_true", dest="all_pages",
                            help="every row: follow each page's next link (from --marker, if given)")
        parser.add_argument("--sort", help="key:dir[,key:dir...], e.g. name:asc or created_at:desc")
        parser.add_argument("--long", action="store_true", help="every column in table format")
        return parser

    def filters(self, parsed_args) -> dict:
        """Exact-match query filters of this command (subclasses add theirs)."""
        return {}

    def take_action(self, parsed_args):
        params = {"limit": parsed_args.limit, "marker": parsed_args.marker, "sort": parsed_args.sort,
                  **self.filters(parsed_args)}
        body = self.client.get(self.path, **params)
        rows = list(body[self.key])
        if parsed_args.all_pages:
            rows.extend(self.following_pages(body))
        elif body.get("next") and parsed_args.formatter == "table":
            self.app.stderr.write(f"(more rows: --all, or --marker {rows[-1].get('id', '')})\n")
        return self.rows(parsed_args, rows)

    def following_pages(self, body: dict):
        """The rows of every page after ``body``, by its ``next`` link and theirs (never by offset).

        :raises CliError: the API linked back to a page already read, or past :data:`MAX_PAGES`.
        """
        seen = set()
        while link := body.get("next"):
            if link in seen or len(seen) >= MAX_PAGES:
                raise errors.CliError(f"the API's next links do not end (at {link})")
            seen.add(link)
            body = self.client.request("GET", link)
            yield from body[self.key]

    def rows(self, parsed_args, rows):
        """(columns, row tuples) for cliff, columns chosen by format, --long and -c."""
        columns = formatting.select_columns(self.columns, self.default_columns, parsed_args.formatter,
                                            parsed_args.long, parsed_args.columns)
        human = self.human(parsed_args)
        shown = [formatting.humanize(r, human, self.rate_fields) for r in rows]
        return columns, [tuple(r.get(c) for c in columns) for r in shown]
