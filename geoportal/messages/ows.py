"""Messages raised by the classic OGC services (geoportal/server/ows): WMS, WFS and the map
engine behind them.

Keyed by message id (the English template); see ``geoportal.messages``.
"""

from __future__ import annotations

__all__ = ["OWS"]

OWS: dict[str, dict[str, str]] = {
    "the portal publishes no vector layer yet; the WFS has none": {
        "be": "партал яшчэ не публікуе ніводнага вектарнага пласта; у WFS іх няма",
        "ru": "портал ещё не публикует ни одного векторного слоя; в WFS их нет"},
    "BBOX must be four numbers (the lower corner, then the upper one) and maybe a CRS": {
        "be": "BBOX павінен быць чатырма лікамі (ніжні кут, потым верхні) і, магчыма, CRS",
        "ru": "BBOX должен быть четырьмя числами (нижний угол, затем верхний) и, возможно, "
              "CRS"},
    "BBOX must give the lower corner first": {
        "be": "BBOX павінен даваць спачатку ніжні кут",
        "ru": "BBOX должен давать сначала нижний угол"},
    "the CRS {crs} of BBOX is not offered; use one of {codes}": {
        "be": "CRS {crs} у BBOX не прапануецца; выкарыстоўвайце адну з {codes}",
        "ru": "CRS {crs} в BBOX не предлагается; используйте одну из {codes}"},
    "{name} of PropertyIsLike must be one character other than a quote or a backslash": {
        "be": "{name} у PropertyIsLike павінен быць адным знакам, не двукоссем, апострафам ці "
              "адваротнай касой рысай",
        "ru": "{name} в PropertyIsLike должен быть одним символом, не кавычкой, апострофом или "
              "обратной косой чертой"},
    "{name} must be a resolution from {low} to {high} dots per inch": {
        "be": "{name} павінна быць раздзяляльнасцю ад {low} да {high} кропак на цалю",
        "ru": "{name} должно быть разрешением от {low} до {high} точек на дюйм"},
    "the map engine refused the request: {reason}": {
        "be": "картографічны рухавік адхіліў запыт: {reason}",
        "ru": "картографический движок отклонил запрос: {reason}"},
    "send {service} requests with GET or as a form (key-value pairs)": {
        "be": "дасылайце запыты {service} метадам GET або як форму (пары ключ-значэнне)",
        "ru": "отправляйте запросы {service} методом GET или как форму (пары ключ-значение)"},
    "a request document is larger than {size} KB": {
        "be": "дакумент запыту большы за {size} КБ",
        "ru": "документ запроса больше {size} КБ"},
    "the WMTS has no operation {name}; it has GetCapabilities and GetTile": {
        "be": "у WMTS няма аперацыі {name}; ёсць GetCapabilities і GetTile",
        "ru": "у WMTS нет операции {name}; есть GetCapabilities и GetTile"},
    "style {name} is not offered; every layer has the style default": {
        "be": "стыль {name} не прапануецца; у кожнага пласта ёсць стыль default",
        "ru": "стиль {name} не предлагается; у каждого слоя есть стиль default"},
    "format {name} is not offered; use image/png or image/jpeg": {
        "be": "фармат {name} не прапануецца; выкарыстоўвайце image/png або image/jpeg",
        "ru": "формат {name} не предлагается; используйте image/png или image/jpeg"},
    "the tile matrix, row and column must be whole numbers": {
        "be": "матрыца, радок і слупок пліткі павінны быць цэлымі лікамі",
        "ru": "матрица, строка и столбец тайла должны быть целыми числами"},
    "tile matrix {z} is not in {grid} (0 to {max})": {
        "be": "матрыцы {z} няма ў {grid} (ад 0 да {max})",
        "ru": "матрицы {z} нет в {grid} (от 0 до {max})"},
    "tile {z}/{y}/{x} is not in {grid}: rows 0 to {rows}, columns 0 to {cols}": {
        "be": "пліткі {z}/{y}/{x} няма ў {grid}: радкі ад 0 да {rows}, слупкі ад 0 да {cols}",
        "ru": "тайла {z}/{y}/{x} нет в {grid}: строки от 0 до {rows}, столбцы от 0 до {cols}"},
    "f={value} is not offered for maps; use png or jpeg": {
        "be": "f={value} не прапануецца для карт; выкарыстоўвайце png або jpeg",
        "ru": "f={value} не предлагается для карт; используйте png или jpeg"},
    "{name} must be true or false": {"be": "{name} павінен быць true або false",
                                     "ru": "{name} должен быть true или false"},
    "bgcolor must be a colour like 0xRRGGBB": {
        "be": "bgcolor павінен быць колерам выгляду 0xRRGGBB",
        "ru": "bgcolor должен быть цветом вида 0xRRGGBB"},

    "the map engine (MapServer) is not installed on this server; the OGC API collections "
    "still serve every layer": {
        "be": "на гэтым серверы не ўсталяваны картографічны рухавік (MapServer); калекцыі "
              "OGC API па-ранейшаму аддаюць кожны пласт",
        "ru": "на этом сервере не установлен картографический движок (MapServer); коллекции "
              "OGC API по-прежнему отдают каждый слой"},
    "the map engine is busy; try again in a few seconds": {
        "be": "картографічны рухавік заняты; паўтарыце праз некалькі секунд",
        "ru": "картографический движок занят; повторите через несколько секунд"},
    "the map took longer than {seconds} s to draw; ask for a smaller area or fewer layers": {
        "be": "карта малявалася даўжэй за {seconds} с; запытайце меншы абшар або менш пластоў",
        "ru": "карта рисовалась дольше {seconds} с; запросите меньшую область или меньше слоёв"},
    "the map engine failed to answer this request; try again, or ask for less": {
        "be": "картографічны рухавік не змог адказаць на гэты запыт; паўтарыце або запытайце "
              "менш",
        "ru": "картографический движок не смог ответить на этот запрос; повторите или "
              "запросите меньше"},
    "the parameter {name} is missing": {"be": "няма параметра {name}",
                                        "ru": "отсутствует параметр {name}"},
    "{name} is not well-formed XML: {problem}": {
        "be": "{name} не з'яўляецца карэктным XML: {problem}",
        "ru": "{name} не является корректным XML: {problem}"},
    "{name} must be a Filter element": {"be": "{name} павінен быць элементам Filter",
                                        "ru": "{name} должен быть элементом Filter"},
    "no published layer is named {name}": {
        "be": "няма апублікаванага пласта з імем {name}",
        "ru": "нет опубликованного слоя с именем {name}"},
    "at most {most} layers may be asked at once": {
        "be": "за адзін раз можна запытаць не больш за {most} пластоў",
        "ru": "за один раз можно запросить не более {most} слоёв"},
    "a layer's data cannot be read just now; try again in a minute": {
        "be": "даныя пласта зараз немагчыма прачытаць; паўтарыце праз хвіліну",
        "ru": "данные слоя сейчас невозможно прочитать; повторите через минуту"},
    "the WMS has no operation {name}; it has GetCapabilities, GetMap, GetFeatureInfo and "
    "GetLegendGraphic": {
        "be": "у WMS няма аперацыі {name}; ёсць GetCapabilities, GetMap, GetFeatureInfo і "
              "GetLegendGraphic",
        "ru": "у WMS нет операции {name}; есть GetCapabilities, GetMap, GetFeatureInfo и "
              "GetLegendGraphic"},
    "an SLD is not fetched from a URL; send it in SLD_BODY": {
        "be": "SLD не загружаецца па URL; дашліце яго ў SLD_BODY",
        "ru": "SLD не загружается по URL; передайте его в SLD_BODY"},
    "SLD_BODY is larger than {size} KB": {"be": "SLD_BODY большы за {size} КБ",
                                          "ru": "SLD_BODY больше {size} КБ"},
    "the WFS has no operation {name}; it is read-only: GetCapabilities, DescribeFeatureType, "
    "GetFeature, GetPropertyValue and the stored queries": {
        "be": "у WFS няма аперацыі {name}; ён толькі для чытання: GetCapabilities, "
              "DescribeFeatureType, GetFeature, GetPropertyValue і захаваныя запыты",
        "ru": "у WFS нет операции {name}; он только для чтения: GetCapabilities, "
              "DescribeFeatureType, GetFeature, GetPropertyValue и сохранённые запросы"},
    "a raster layer has no features; read it through OGC API - Coverages": {
        "be": "у растравага пласта няма аб'ектаў; чытайце яго праз OGC API - Coverages",
        "ru": "у растрового слоя нет объектов; читайте его через OGC API - Coverages"},
    "{name} must be a whole number of pixels from 1 to {most}": {
        "be": "{name} павінен быць цэлым лікам пікселяў ад 1 да {most}",
        "ru": "{name} должен быть целым числом пикселей от 1 до {most}"},
    "{name} must be a whole number": {"be": "{name} павінен быць цэлым лікам",
                                      "ru": "{name} должен быть целым числом"},
}
