"""Check-in (扫码核验): the online scan and the offline batch, the scan rules shared with the offline verifier, manifests and bundles, no-shows and closing a trip (清点核对).

Console menus 卡口扫码 · 预计到达 · 清点核对.
"""
