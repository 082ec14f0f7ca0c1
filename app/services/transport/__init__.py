"""Point-to-point transport (点对点运输): applications and their review (申请审核), planning vehicles and convoys (编班编组), plans, trips (一车一方案) and their crew (车长/副车长).

Console menus 申请审核 · 编班编组 · 车次.
"""
