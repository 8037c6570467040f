// The filtering proxy's built-in rule set: what `npm start` and `torsion
// proxy` without `--rules` use. Kept as a string in the code so that it ships
// in dist/ with nothing to find at run time.
// Tests: test/unit/web/proxy/rules.test.ts

/**
 * The built-in rules, in the rules file format (`docs/proxy-rules.md`):
 * well-known advertising and tracking domains blocked, third-party cookies
 * stripped, `Referer` trimmed to the origin (removed across sites), images
 * allowed. `Rules.defaults()` parses it, with the source `built-in`.
 *
 * @remarks
 * A starting point, not a complete block list: copy it into a file, edit it,
 * and pass the file with `torsion proxy --rules FILE`.
 *
 * @since 0.1.0
 */
export const DEFAULT_RULES = `# Torsion's built-in proxy rules. Format: docs/proxy-rules.md
# One rule a line: ACTION PATTERN [ARGS...]. The last matching rule of each kind wins.

# Blocked images are answered with a 1x1 transparent GIF (or: option image-answer 403).
option image-answer gif

# Cookies: kept for the site you visit, stripped from third-party requests
# (a Sec-Fetch-Site of cross-site, or a Referer from another site).
strip-third-party-cookies *

# The Referer: the origin only within a site, nothing across sites.
trim-referer *

# Advertising and tracking domains (each with all its subdomains).
block .doubleclick.net
block .googlesyndication.com
block .googleadservices.com
block .google-analytics.com
block .googletagmanager.com
block .googletagservices.com
block .adservice.google.com
block .app-measurement.com
block .2mdn.net
block .adnxs.com
block .adsrvr.org
block .advertising.com
block .amazon-adsystem.com
block .criteo.com
block .criteo.net
block .taboola.com
block .outbrain.com
block .rubiconproject.com
block .pubmatic.com
block .openx.net
block .casalemedia.com
block .moatads.com
block .scorecardresearch.com
block .quantserve.com
block .quantcount.com
block .chartbeat.com
block .chartbeat.net
block .hotjar.com
block .mixpanel.com
block .segment.io
block cdn.segment.com
block .branch.io
block .appsflyer.com
block .adjust.com
block .bluekai.com
block .krxd.net
block .demdex.net
block .omtrdc.net
block .everesttech.net
block .mathtag.com
block .bidswitch.net
block .smartadserver.com
block .yieldmo.com
block .teads.tv
block .media.net
block .zedo.com
block .adform.net
block .serving-sys.com
block .mookie1.com
block .tapad.com
block .adroll.com
block .ads-twitter.com
block .analytics.twitter.com
block .ads.linkedin.com
block .connect.facebook.net
block .pixel.facebook.com
block .an.facebook.com
block .analytics.tiktok.com
block .ads.yahoo.com
block .analytics.yahoo.com
block .bat.bing.com
block .clarity.ms
block js-agent.newrelic.com
block .nr-data.net

# Cookies to trackers that are not blocked above are never sent.
strip-cookies .facebook.net
strip-cookies .fbcdn.net
strip-cookies .doubleverify.com
strip-cookies .imrworldwide.com
`;
