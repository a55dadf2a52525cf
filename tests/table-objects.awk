# table-objects.awk: an `nft list table` listing with each set, map and
# chain on one line (inner lines joined by \001), for sorting: a listing
# shows objects in the order they were created, which two equal tables
# built by different transactions need not share.
BEGIN { ORS = "" }
/^table / || /^}$/ || /^$/ { next }
/^\t[a-z]+ [^ ]+ \{$/ { if (b != "") print b "\n"; b = $0; next }
{ b = b "\001" $0 }
END { if (b != "") print b "\n" }
